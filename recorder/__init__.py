"""Records a conference program and the meeting journal."""
