import sys

from research.experiment import main

sys.exit(main())
