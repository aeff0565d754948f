import sys

from channelctl.cli import main

sys.exit(main())
