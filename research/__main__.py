import sys

from research import interrupts

interrupts.install()  # before the driver's imports: jax takes seconds to import
from research.experiment import main  # noqa: E402

interrupts.imported()
try:
  status = main()
except BaseException:
  if interrupts.pressed():
    interrupts.stop()
  raise
if interrupts.pressed() and status != interrupts.EXIT:  # an interrupt some library swallowed
  interrupts.stop()
sys.exit(status)
