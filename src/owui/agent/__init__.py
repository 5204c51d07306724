"""The agent service: tools, the run loop, pipelines, tasks, workflows, code execution."""
