"""``python -m tts_service`` runs the command line."""

from tts_service.cli import main

main()
