from opsgraph.cli import main

main()
