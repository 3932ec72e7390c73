import StageRuntime

runStage("payout", definition: Payout.definition)
