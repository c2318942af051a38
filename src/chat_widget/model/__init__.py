"""The sans-I/O core: clock, reply timer, chat session state machine and the agent desk."""
