"""python -m bench [--epochs 2] [--rounds 3] [--quick]: `make bench` (bench/run.py says what it times)."""
from bench.run import main

raise SystemExit(main())
