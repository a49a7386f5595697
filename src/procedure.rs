//! The procedure itself, free of any I/O: the sixteen steps and their
//! groups, the live checklist, and the attribute-mapping edits of steps 9-13.

pub mod checklist;
pub mod mapping;
pub mod step;
