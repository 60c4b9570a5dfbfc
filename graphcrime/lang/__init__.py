"""The RDFox Datalog dialect: syntax tree, parser and printer."""
