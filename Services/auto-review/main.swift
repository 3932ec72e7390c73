import StageRuntime

runStage("auto-review", definition: AutoReview.definition)
