import sys

from tradelab.cli import main

sys.exit(main())
