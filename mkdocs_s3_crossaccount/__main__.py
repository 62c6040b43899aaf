from mkdocs_s3_crossaccount.cli.main import main

main()
