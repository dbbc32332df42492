//! capfile: upload images to Capillary's file service.

pub mod emulator;
