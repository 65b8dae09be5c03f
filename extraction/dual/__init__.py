"""The dual independent copy, written once for data extraction and risk-of-bias appraisal.

Two people each keep a blinded copy of a study's work (an `Extraction`, an `Appraisal`);
once both are done a senior compares them and resolves them into the consensus copy (the
person column empty), which becomes final when marked done. `models` holds the columns
and constraints every such copy has, `rules` who may see, edit and reopen a copy and a
study's progress, `services` the writes (start a copy, reopen it, start the consensus),
and `views` the senior's comparison pages, each kind bringing only what differs: its
values, how two copies compare and how a side is taken.
"""
