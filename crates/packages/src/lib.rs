//! The persistent store of accounts, tokens and packages (work in progress).
