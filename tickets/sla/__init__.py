"""Service levels: business calendars and the working time they count (issue 25's foundation)."""
