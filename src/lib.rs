//! vnplan: Vietnamese New Rural Development plan documents ("Chương trình MTQG xây dựng nông thôn
//! mới") into searchable text and structured data.
//!
//! The flow of one document: source → ocr → normalize → restore → extract → JSON + store. Each stage
//! is a module with a small typed interface; [`pipeline::Pipeline`] composes them.

pub mod bench;
pub mod document;
pub mod extract;
pub mod ingest;
pub mod normalize;
pub mod ocr;
pub mod pipeline;
pub mod restore;
pub mod source;
pub mod store;
pub mod vietnamese;
