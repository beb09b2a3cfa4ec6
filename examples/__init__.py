"""Programs that use minicnn on their own, outside the knee study."""
