//! vnplan: Vietnamese New Rural Development plan documents ("Chương trình MTQG xây dựng nông thôn
//! mới") into searchable text and structured data.
//!
//! The flow of one document: source → ocr → normalize → restore → extract → JSON + store. Each stage
//! is a module with a small typed interface; [`pipeline::Pipeline`] composes them.

pub mod document;
pub mod extract;
pub mod ingest;
pub mod store;
pub mod restore;
pub mod vietnamese;
pub mod source;
pub mod ocr;
pub mod normalize;
pub mod pipeline;
pub mod bench;
