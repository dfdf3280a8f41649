from hyp.cli.main import main

main()
