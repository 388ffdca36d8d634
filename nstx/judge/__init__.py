"""The fixed quality judge (:mod:`nstx.judge.ruler`) and its lifecycle plugin (:mod:`nstx.judge.plugin`)."""
