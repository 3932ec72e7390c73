import Testing

/// Every test that talks to the real servers runs under this suite, one at a time: one of them restarts the broker,
/// and 2 cores are better spent on one test's processes than on several tests fighting for them.
@Suite("Component (real RabbitMQ and PostgreSQL)", .serialized)
struct Component {}
