"""The live meeting: the tablet socket, its protocol, and the hub that fans events out."""
