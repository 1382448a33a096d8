//! Golden messages and cross-SDK tests.
