from owui.cli.main import main

main()
