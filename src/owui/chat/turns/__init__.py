"""Chat turns: a user's message stored, the agent's run streamed back, the answer stored.

flow.py reads a turn top to bottom (parse, place in the tree, history, trim, run, store) and
names the module of each stage; respond.py answers from the turn's events; running.py keeps
the turns this process runs.
"""
