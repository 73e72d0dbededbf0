"""The command line: configs and their overrides (config), one experiment run end to end
(experiment), Ctrl-C at any moment (interrupts). `python -m research` is research/__main__.py."""
