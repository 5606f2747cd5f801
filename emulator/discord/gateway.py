"""The Gateway websocket: hello, identify, resume, heartbeats and dispatches."""

from __future__ import annotations

import json
import logging
import secrets
import traceback

from aiohttp import WSMsgType, web

from emulator.discord.world import (
    JSONDict,
    _Connection,
    _Session,
)

log = logging.getLogger(__name__)


class Gateway:
    """The Gateway websocket: hello, identify, resume, heartbeats and dispatches.

    A part of DiscordEmulator (see emulator.py), which holds the state.
    """

    # ------------------------------------------------------------------ gateway

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        if self.refuse_gateway:
            # As during a Discord outage: the upgrade fails, and discord.py retries with backoff.
            self._record("gateway_refused")
            return web.Response(status=503, text="gateway unavailable")
        ws = web.WebSocketResponse(timeout=2.0, max_msg_size=0)
        await ws.prepare(request)
        self.gateway_connections += 1
        conn = _Connection(ws, self.gateway_connections, dict(request.query))
        self._connections.add(conn)
        self._record("gateway_connect", number=conn.number, query=conn.query)
        try:
            await conn.send({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
            # Ends when either side closes the socket.
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_gateway_message(conn, json.loads(msg.data))
                elif msg.type is WSMsgType.ERROR:
                    break
        except Exception:
            text = traceback.format_exc()
            log.error("emulator gateway error\n%s", text)
            self.errors.append(f"gateway: {text}")
        finally:
            self._connections.discard(conn)
            if self._live is conn:
                self._live = None
            self._record("gateway_close", number=conn.number, code=ws.close_code)
        return ws

    async def _on_gateway_message(self, conn: _Connection, frame: JSONDict) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == 1:  # heartbeat
            await conn.send({"op": 11})
        elif op == 2:
            await self._identify(conn, data)
        elif op == 6:
            await self._resume(conn, data)
        elif op == 8:  # request guild members: everything fits in one chunk
            chunk = {
                "guild_id": str(self.guild_id),
                "members": [self.member_payload(u) for u in self.users.values()],
                "chunk_index": 0,
                "chunk_count": 1,
                "nonce": data.get("nonce"),
            }
            await self._dispatch("GUILD_MEMBERS_CHUNK", chunk)
        elif op in (3, 4):  # presence / voice state updates: accepted, nothing to model
            self._record("gateway_op", op=op, data=data)
        else:
            self._record("gateway_op", op=op, data=data)
            self.client_errors.append({"gateway_op": op, "message": "Unknown opcode", "code": 4001})
            await conn.ws.close(code=4001, message=b"Unknown opcode")

    async def _identify(self, conn: _Connection, data: JSONDict) -> None:
        if data.get("token") != self.token:
            self.client_errors.append({"gateway_op": 2, "message": "Authentication failed"})
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        self.identify_count += 1
        session = _Session(secrets.token_hex(16))
        self._session = conn.session = session
        self._live = conn
        self._record("identify", intents=data.get("intents"), session_id=session.id)
        ready = {
            "v": 10,
            "user": self.bot_user.payload() | {"verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(self.guild_id), "unavailable": True}],
            "session_id": session.id,
            "session_type": "normal",
            # discord.py reconnects to this URL, so it must be ours, not Discord's.
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
        }
        if data.get("shard"):
            ready["shard"] = data["shard"]
        await self._dispatch("READY", ready)
        await self._dispatch("GUILD_CREATE", self.guild_payload(data.get("intents", 0)))
        conn.ready = True
        self._changed()

    async def _resume(self, conn: _Connection, data: JSONDict) -> None:
        session = self._session
        if (
            data.get("token") != self.token
            or session is None
            or data.get("session_id") != session.id
        ):
            # Not resumable: op 9 with d=false makes discord.py identify afresh.
            self._record("invalid_session", session_id=data.get("session_id"))
            await conn.send({"op": 9, "d": False})
            return
        self.resume_count += 1
        conn.session, self._live = session, conn
        last_seen = data.get("seq") or 0
        missed = [frame for frame in session.sent if frame["s"] > last_seen]
        self._record("resume", session_id=session.id, seq=last_seen, replayed=len(missed))
        for frame in missed:
            await conn.send(frame)
        await self._dispatch("RESUMED", {})
        conn.ready = True
        self._changed()

    async def _dispatch(self, event: str, data: JSONDict) -> None:
        """Send a dispatch on the live session, or keep it for a RESUME to replay."""
        session = self._session
        if session is None:
            raise RuntimeError("no gateway session: is the bot connected?")
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.sent.append(frame)
        conn = self._live
        sent = conn is not None and conn.session is session and await conn.send(frame)
        self._record("dispatch", event=event, seq=session.seq, delivered=sent)

    async def drop_gateway(self, code: int = 4000) -> None:
        """Close the bot's socket the way a network blip would; 4000 lets discord.py resume."""
        conn = self._live
        if conn is None:
            raise RuntimeError("no live gateway connection to drop")
        self._live = None
        conn.ready = False
        await conn.ws.close(code=code, message=b"emulator dropped the connection")
