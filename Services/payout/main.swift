import Foundation

exit(await Payout.run())
