"""The demo review: users, settings and generated search exports."""
