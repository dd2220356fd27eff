import sys

from mutasi_rules.cli import main

sys.exit(main())
