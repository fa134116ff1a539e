//! The answer grammar as llama.cpp's own grammar sampler reads it (the tiny test model's
//! vocabulary only; nothing is generated): where it lets a block end must be where the parser
//! ends it.

use git_hybrid::local::edit::{Limits, grammar};
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;

/// How far llama.cpp's own grammar sampler lets a model write `text`: `Ok(stop)` when all
/// of it, with whether the answer may end there; `Err(token)` names the first refused token.
fn written(model: &LlamaModel, gbnf: &str, text: &str) -> Result<bool, String> {
    let vocab = model.vocab();
    let mut sampler = LlamaSampler::grammar(model, gbnf, "root").unwrap();
    let allowed = |sampler: &mut LlamaSampler, token: LlamaToken| {
        let mut one = LlamaTokenDataArray::new(vec![LlamaTokenData::new(token, 1.0, 0.0)], false);
        sampler.apply(&mut one);
        one.data[0].logit().is_finite()
    };
    for token in vocab.tokenize(text.as_bytes(), false, false) {
        if !allowed(&mut sampler, token) {
            let piece =
                String::from_utf8_lossy(&vocab.token_to_piece(token, false, None)).into_owned();
            return Err(piece);
        }
        sampler.accept(token);
    }
    Ok(allowed(&mut sampler, vocab.eos()))
}

#[test]
fn the_grammar_ends_a_block_where_the_parser_does() {
    let backend = LlamaBackend::init().unwrap();
    let model = LlamaModel::load_from_file(
        &backend,
        crate::embedded::test_model(),
        &LlamaModelParams::default(),
    )
    .unwrap();
    let one_file = grammar(&["a.py".into()], &[], Limits::new(1, 40, 0));
    // The marker after a fence closes the block; nothing may follow the answer's one block.
    // (A line "``` >>>>>>> END" used to be content too: the model wrote on inside a block
    // the parser had closed.)
    for end in ["``` >>>>>>> END\n", "```>>>>>>> END\n", ">>>>>>> END\n"] {
        let answer = format!("<<<<<<< FILE a.py\nx = 1\n{end}");
        assert_eq!(written(&model, &one_file, &answer), Ok(true), "{end}");
        assert!(written(&model, &one_file, &format!("{answer}y = 2\n")).is_err());
    }
    // Fences are still content: opening, closing, a longer fence, a fence with a space.
    let fenced = "<<<<<<< FILE a.py\n```python\nx = 1\n```\n````\n``` \n`a` b\n``\n>>>>>>> END\n";
    assert_eq!(written(&model, &one_file, fenced), Ok(true));
    // The same in an EDIT block: after the fenced end, a divider is not part of it.
    let edit = grammar(&[], &["b.py".into()], Limits::new(1, 40, 0));
    let answer = "<<<<<<< EDIT b.py\nx = 1\n=======\nx = 2\n``` >>>>>>> END\n";
    assert_eq!(written(&model, &edit, answer), Ok(true));
    let search_then_fence = "<<<<<<< EDIT b.py\nx = 1\n``` >>>>>>> END\n=======\n";
    assert!(written(&model, &edit, search_then_fence).is_err());
}
