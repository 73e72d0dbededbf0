"""Training as compiled programs: one trainer (train, programs, optim, masks, schedules), members
vmapped or mapped over devices (sharding), a table cell trained once and reused (cells, integrity,
curves, summary), halving rungs, Group DRO and validation-based selection (tuning).
Imports research.system, research.models and research.data; never report or cli."""
