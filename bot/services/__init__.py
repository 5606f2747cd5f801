"""The bot's work behind the commands, free of Discord objects: recommending, building and
training models in child processes, and pruning what retention says to delete."""
