"""One module per seed topic.  Each defines ``references()``; the registry finds them."""
