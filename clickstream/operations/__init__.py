"""Operator tools of a running stack (``python -m clickstream``): ``status`` (is data flowing, link by link,
its checks in ``status_links``) and ``sessionize`` (pause and resume the generator)."""
