import sys

from research import interrupts

interrupts.install()  # before the driver's imports: jax takes seconds to import
try:
  from research.experiment import main
  status = main()
except KeyboardInterrupt:
  interrupts.stop()
sys.exit(status)
