"""Models from other libraries, opened from disk (Qt-free): diffusers folders."""
