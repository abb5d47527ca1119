"""soupconf: the property-based conformance suite's library (issue 4).

Modules:
  codec           hand-written protobuf wire codec for proto.KV (allows invalid UTF-8 keys)
  model           the oracle: a dict, last write wins per key
  linearizability Wing-Gong / Knossos-style checker for per-key registers
  strategies      Hypothesis strategies: unrestricted keys and values
  client          gRPC clients (Python grpcio; soup-c CLI) behind one interface
  servers         launchers for soup-c, the Python reference server and Go peers
  refserver       a durable Python grpcio proto.KV server (matrix peer, suite self-check)
  rawh2           raw HTTP/2 connections for malformed-frame tests
  procinfo        /proc readers: fd count, RSS
  report          polyglot matrix report (Markdown + self-contained HTML)
"""
