from cropflow.cli import main

main()
