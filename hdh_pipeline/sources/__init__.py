"""Source declarations, their data dictionaries, and the tables they yield."""
