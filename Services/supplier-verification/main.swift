import StageRuntime

if CommandLine.arguments.dropFirst().first == "stats" { SupplierVerification.printStats(Environment()) }
runStage("supplier-verification", definition: SupplierVerification.definition)
