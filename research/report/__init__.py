"""From results to words and tables: statistics over seeds (stats), the verdict protocol
(protocol, depth_verdicts, readings), tables (tables) and REPORT.md / summary.md (paper).
Reads results.json through research.system.sealed; never trains."""
