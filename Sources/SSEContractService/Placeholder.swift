// Replaced by the contract service implementation.
