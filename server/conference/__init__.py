"""The video bridge: the hall and its ward points in one conference."""
