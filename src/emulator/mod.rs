//! The local file service (placeholder; see the emulator branch).
