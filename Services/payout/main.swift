import Foundation
import StageRuntime

finishProcess(await Payout.run())
