from locator.cli.main import main

main()
