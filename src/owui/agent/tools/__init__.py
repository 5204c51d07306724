"""Tools a model can call: the built-in ones and users' Python tools."""
