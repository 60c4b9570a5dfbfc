from graphcrime.cli import main

main()
