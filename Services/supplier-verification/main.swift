import StageRuntime

if CommandLine.arguments.dropFirst().first == "stats" { SupplierVerification.printStats(Environment()) }
await runStage("supplier-verification", definition: SupplierVerification.definition)
