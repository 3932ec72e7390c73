import StageRuntime

await runStage("auto-review", definition: AutoReview.definition)
